/**
 * A lane for work that follows a response but must never delay one: handing captured exchanges
 * to the queue. Exchanges tend to end together (a burst of streams finishing at once), and
 * running all their hand-offs in one turn of the event loop would hold back the requests that
 * arrive meanwhile. The lane runs its tasks in order, at most about BUDGET_MS per turn, and
 * yields to I/O between turns, so new requests are forwarded first.
 */
const BUDGET_MS = 1;
const tasks: Array<() => void> = [];
let head = 0;
let scheduled = false;

export function background(task: () => void): void {
  tasks.push(task);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
}

function drain(): void {
  const until = performance.now() + BUDGET_MS;
  do {
    const task = tasks[head]!;
    tasks[head++] = undefined as unknown as () => void;
    try {
      task();
    } catch (err) {
      // A failing hand-off must not take the others (or the process) down with it.
      process.emitWarning(err as Error);
    }
  } while (head < tasks.length && performance.now() < until);
  if (head === tasks.length) {
    tasks.length = 0;
    head = 0;
    scheduled = false;
  } else {
    if (head >= 1024 && head * 2 >= tasks.length) {
      // Under steady load the lane may never empty: drop the finished part now and then.
      tasks.splice(0, head);
      head = 0;
    }
    setImmediate(drain);
  }
}
