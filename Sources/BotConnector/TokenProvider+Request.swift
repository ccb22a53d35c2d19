import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

extension TokenProvider {
    private struct TokenResponse: Decodable {
        var accessToken: String
        var expiresIn: Int?
        var tokenType: String?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case expiresIn = "expires_in"
            case tokenType = "token_type"
        }
    }

    private struct TokenError: Decodable {
        var error: String?
        var errorDescription: String?

        enum CodingKeys: String, CodingKey {
            case error
            case errorDescription = "error_description"
        }
    }

    /// Performs the client-credentials request; returns the token and its lifetime.
    func requestToken() async throws(BotConnectorError) -> (String, Duration) {
        var request = HTTPClientRequest(url: self.configuration.tokenURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.configuration.clientId),
            ("client_secret", self.configuration.clientSecret),
            ("scope", self.configuration.scope),
        ].map { "\($0.0)=\(FormEncoding.encode($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))

        let status: Int
        let body: ByteBuffer
        do {
            let response = try await self.httpClient.execute(request, timeout: .init(self.configuration.timeout))
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            let transport = BotConnectorError.fromTransport(error)
            throw BotConnectorError(code: .tokenRequestFailed, message: "token endpoint: \(transport.message)")
        }

        guard (200..<300).contains(status) else {
            let detail = try? JSONDecoder().decode(TokenError.self, from: Data(buffer: body))
            let reason = [detail?.error, detail?.errorDescription?.split(separator: "\r\n").first.map(String.init)]
                .compactMap { $0 }.joined(separator: ": ")
            var message = "token endpoint answered HTTP \(status)" + (reason.isEmpty ? "" : " (\(reason))")
            if detail?.errorDescription?.hasPrefix("AADSTS700016") == true {
                // Entra does not know the app in the tenant the token was asked of: usually a single-tenant bot
                // left on the default `botframework.com` tenant.
                message +=
                    "; the app is not registered in the tenant of \(self.configuration.tokenURL): a single-tenant "
                    + "bot must set bot.tenantId to the tenant it is registered in"
            }
            // 400/401 mean the credentials or scope were refused: retrying will not help.
            let code: BotConnectorError.Code = (status == 400 || status == 401) ? .unauthorized : .tokenRequestFailed
            throw BotConnectorError(code: code, httpStatus: status, message: message)
        }
        guard let token = try? JSONDecoder().decode(TokenResponse.self, from: Data(buffer: body)),
            !token.accessToken.isEmpty
        else {
            throw BotConnectorError(
                code: .tokenRequestFailed, httpStatus: status, message: "token endpoint sent no token")
        }
        self.logger.debug("obtained a Bot Connector token", metadata: ["expires_in": "\(token.expiresIn ?? 3600)"])
        return (token.accessToken, .seconds(max(1, token.expiresIn ?? 3600)))
    }
}

/// `application/x-www-form-urlencoded` values: everything but unreserved characters is escaped.
enum FormEncoding {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func encode(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte & 0x0F)]))
            }
        }
        return out
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
