import AsyncHTTPClient
import NIOCore

extension BotConnectorError {
    /// Classifies an error that happened below HTTP: timeouts, refused or broken connections.
    static func fromTransport(_ error: any Error) -> BotConnectorError {
        if let error = error as? BotConnectorError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return BotConnectorError(code: .timeout, message: "no answer in time (\(error.shortDescription))")
            default:
                return BotConnectorError(code: .connection, message: "connection failed (\(error.shortDescription))")
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return BotConnectorError(code: .timeout, message: "connect timed out")
        }
        if error is CancellationError {
            return BotConnectorError(code: .connection, message: "the request was cancelled")
        }
        return BotConnectorError(code: .connection, message: "connection failed (\(error))")
    }
}
