import Foundation
import SFTPLogRecords
import SFTPLogCatalog

extension RecordKind {
    public static let opensshVersion = RecordKind("openssh.version")
    public static let opensshCompat = RecordKind("openssh.compat")
    public static let opensshConnect = RecordKind("openssh.connect")
    public static let opensshKexinit = RecordKind("openssh.kexinit")
    public static let opensshNegotiated = RecordKind("openssh.negotiated")
    public static let opensshStrictKex = RecordKind("openssh.strict_kex")
    public static let opensshGEX = RecordKind("openssh.gex")
    public static let opensshHostKey = RecordKind("openssh.hostkey")
    public static let opensshAuth = RecordKind("openssh.auth")
    public static let opensshChannel = RecordKind("openssh.channel")
    public static let opensshSFTP = RecordKind("openssh.sftp")
    public static let opensshTransfer = RecordKind("openssh.transfer")
    public static let opensshError = RecordKind("openssh.error")
    public static let opensshDebug = RecordKind("openssh.debug")
    public static let opensshOutput = RecordKind("openssh.output")

    /// Every kind the OpenSSH reader emits (besides `unparsed`).
    public static let opensshKinds: [RecordKind] = [
        .opensshVersion, .opensshCompat, .opensshConnect, .opensshKexinit, .opensshNegotiated, .opensshStrictKex,
        .opensshGEX, .opensshHostKey, .opensshAuth, .opensshChannel, .opensshSFTP, .opensshTransfer, .opensshError,
        .opensshDebug, .opensshOutput,
    ]
}
