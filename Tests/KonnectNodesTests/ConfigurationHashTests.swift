import KonnectCore
import Testing

@testable import KonnectNodes

/// Rule C1: the hash a geo stores and data planes report is Kong's: MD5 of the canonical declarative
/// configuration, as lower-case hex.
@Suite struct ConfigurationHashTests {
    @Test func aKnownConfigurationHasItsKnownHash() {
        let config = DeclarativeConfig(services: [["id": "s", "host": "h"]])
        // MD5 of {"_format_version":"3.0","consumers":[],"plugins":[],"routes":[],"services":[{"host":"h","id":"s"}]},
        // computed independently (Python's hashlib).
        #expect(config.kongHash == "7863fd7bdd0bbcc5eeda57405d8243b3")
    }

    @Test func anEmptyConfigurationIsThirtyTwoZeros() {
        #expect(DeclarativeConfig().kongHash == "00000000000000000000000000000000")
    }
}
