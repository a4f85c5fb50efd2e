import Testing

/// Every test that starts processes is nested in this suite, which runs its tests one at a time:
/// a 2-core machine running several clusters at once would turn timing margins into flakes.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ProcessTests {}
