import { afterEach } from 'vitest'

// A test file's worker answers the runner over an RPC with a fixed 60 s timeout, and reads the replies
// only when its event loop reaches the poll phase. Synchronous tests (tensor maths) back to back keep it
// in microtasks for longer than that under load, and the run fails with "Timeout calling onTaskUpdate"
// though every test passed. One macrotask turn after each test lets the replies in.
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)))
