#ifndef SFTPLOG_CCOMPRESSION_SHIM_H
#define SFTPLOG_CCOMPRESSION_SHIM_H

#include <stdint.h>
#include <zlib.h>
#include <bzlib.h>
#include <lzma.h>

// inflateInit2 and LZMA_CONCATENATED are macros Swift cannot call or import.

/// Gzip only (not raw deflate or zlib): the caller has seen the gzip magic.
static inline int ccompression_inflate_init_gzip(z_stream *s) {
    return inflateInit2(s, 15 + 16);
}

/// Decodes concatenated .xz streams and their padding, without a memory limit.
static inline lzma_ret ccompression_xz_decoder_init(lzma_stream *s) {
    return lzma_stream_decoder(s, UINT64_MAX, LZMA_CONCATENATED);
}

#endif
