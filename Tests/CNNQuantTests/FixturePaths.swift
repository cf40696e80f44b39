import Foundation

/// Paths of the committed test fixtures (see Fixtures/make_fixtures.py for how they were made).
enum Fixtures {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}
