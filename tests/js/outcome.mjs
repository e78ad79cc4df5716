// What run-definition.mjs and run-deployed.mjs share: a step's error as Step
// Functions sees it, and how an execution's end becomes the printed report.

// A step's error: name = errorType, message = the cause.
export class StepError extends Error {
  constructor(name, message) { super(message); this.name = name; }
}

// Waits for an aws-local-stepfunctions execution to end; `onEvent` sees each
// event of its log as it comes. Returns {"status", "output" | "error", "cause"}.
export async function outcome(execution, onEvent) {
  const logEvents = (async () => {
    for await (const e of execution.eventLogs) onEvent(e);
  })();
  let report;
  try {
    const output = await execution.result;
    report = { status: 'SUCCEEDED', output };
  } catch (e) {
    // ExecutionError wraps the error that ended the run (a Fail state's, or a runtime one).
    const ended = e.cause instanceof Error ? e.cause : e;
    report = { status: 'FAILED', error: ended.name, cause: ended.message };
  }
  await logEvents.catch(() => {});
  return report;
}
