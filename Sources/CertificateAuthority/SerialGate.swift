/// Runs async sections one at a time, in arrival order. An actor alone does not: it is
/// re-entered at every `await`, and a revocation awaits the ledger between reading the CRL
/// number and writing the next one.
actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
    }

    func leave() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
