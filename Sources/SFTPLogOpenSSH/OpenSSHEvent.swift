import Foundation
import SFTPLogRecords

/// What an OpenSSH record says happened, as its `event` value in the output
/// (the message table and the extractors name them): the events the session
/// builder acts on. A record with another event, or none, is `nil`.
public enum OpenSSHEvent: String, CaseIterable, Sendable {
    case acceptsKey = "accepts_key"
    case added
    case addedIp = "added_ip"
    case agentSignatureMismatch = "agent_signature_mismatch"
    case authenticated
    case authenticating
    case authenticityUnknown = "authenticity_unknown"
    case banner
    case bannerExchangeFailed = "banner_exchange_failed"
    case bitsSet = "bits_set"
    case changed
    case closed
    case closedByRemote = "closed_by_remote"
    case command
    case compression
    case config
    case connectFailed = "connect_failed"
    case connecting
    case connectionClosed = "connection_closed"
    case connectionLost = "connection_lost"
    case denied
    case disconnectReceived = "disconnect_received"
    case download
    case error
    case established
    case exec
    case exitStatus = "exit_status"
    case fetching
    case fingerprint
    case found
    case hostkeyChangedBanner = "hostkey_changed_banner"
    case hostkeyChangedFingerprint = "hostkey_changed_fingerprint"
    case hostkeyVerificationFailed = "hostkey_verification_failed"
    case kexinitReceived = "kexinit_received"
    case kexinitSent = "kexinit_sent"
    case known
    case local
    case lostConnection = "lost_connection"
    case match
    case methods
    case negotiationFailed = "negotiation_failed"
    case newkeysReceived = "newkeys_received"
    case nextMethod = "next_method"
    case noMoreMethods = "no_more_methods"
    case noMutualSignature = "no_mutual_signature"
    case notSent = "not_sent"
    case offending
    case offering
    case partialSuccess = "partial_success"
    case passwordRetry = "password_retry"
    case progress
    case prompt
    case proposal
    case rate
    case remote
    case request
    case requestOld = "request_old"
    case resolveFailed = "resolve_failed"
    case sentPacket = "sent_packet"
    case serverHostKey = "server_host_key"
    case sftpConnected = "sftp_connected"
    case sftpConnecting = "sftp_connecting"
    case subsystem
    case succeeded
    case tooManyFailures = "too_many_failures"
    case transferred
    case tryingPrivateKey = "trying_private_key"
    case unknownRefused = "unknown_refused"
    case upload
    case warningBanner = "warning_banner"
}

extension OpenSSHEvent {
    public init?(_ r: Record) {
        guard case .string(let s)? = r.extraValue("event") else { return nil }
        self.init(rawValue: s)
    }
}

/// The facts an OpenSSH record carries in `extra`, by the name it has in the
/// output (`host`, `port`, `names`…): the ones the session builder reads.
public enum OpenSSHFact: String, CaseIterable, Sendable {
    case address
    case afterProgress = "after_progress"
    case algorithm
    case args
    case bytesReceived = "bytes_received"
    case bytesSent = "bytes_sent"
    case cipher
    case clientOffer = "client_offer"
    case clientVersion = "client_version"
    case command
    case compat
    case compression
    case direction
    case error
    case factor
    case file
    case fileLine = "file_line"
    case fingerprint
    case fingerprintHash = "fingerprint_hash"
    case groupBits = "group_bits"
    case host
    case ignoreErrors = "ignore_errors"
    case joinsPrevious = "joins_previous"
    case keyPath = "key_path"
    case keyType = "key_type"
    case level
    case library
    case local
    case mac
    case max
    case method
    case methods
    case min
    case names
    case op
    case percent
    case port
    case preferred
    case program
    case protocolVersion = "protocol_version"
    case reason
    case receivedPerSecond = "received_per_second"
    case remote
    case seconds
    case sentPerSecond = "sent_per_second"
    case serverOffer = "server_offer"
    case shell
    case side
    case slot
    case software
    case status
    case stdin
    case stdout
    case subsystem
    case text
    case theirOffer = "their_offer"
    case tool
    case user
    case value
    case verbosity
    case via
}

extension Record {
    /// The value of an OpenSSH fact on this record.
    public func fact(_ f: OpenSSHFact) -> JSONValue? { extraValue(f.rawValue) }
}
