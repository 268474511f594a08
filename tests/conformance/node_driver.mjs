// Runs state machines on aws-local-stepfunctions (an independent TypeScript engine, from npm).
// Reads one JSON object on stdin: {"bridge": URL, "runs": [{"id", "definition", "input", "context"}]},
// prints one JSON line per run: {"id", "status", "error", "cause", "output"}. Every Task state is answered
// by the harness's bridge (POST {"run", "function", "payload"}), the same answers the other engines get;
// retry intervals are overridden to 0 ms.

// The engine uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const { StateMachine } = await import(process.env.AWS_LOCAL_STEPFUNCTIONS);

function taskStates(states, found = []) {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === "Task") found.push(name);
    for (const nested of [state.Iterator, state.ItemProcessor, ...(state.Branches ?? [])]) {
      if (nested) taskStates(nested.States, found);
    }
  }
  return found;
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);

for (const run of job.runs) {
  const handlers = {};
  const retries = {};
  for (const name of taskStates(run.definition.States)) {
    retries[name] = 0;
    handlers[name] = async (parameters) => {
      const response = await fetch(job.bridge, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ run: run.id, function: parameters.FunctionName, payload: parameters.Payload }),
      });
      const answer = await response.json();
      if (answer.function_error) {
        // As Lambda's integration fails a task: the function's errorType, the payload as the cause.
        const error = new Error(answer.cause);
        error.name = answer.payload.errorType;
        throw error;
      }
      return { StatusCode: 200, ExecutedVersion: "$LATEST", Payload: answer.payload };
    };
  }
  const machine = new StateMachine(run.definition, { validationOptions: { checkPaths: false, checkArn: false } });
  const execution = machine.run(run.input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retries },
    context: run.context,
  });
  let line;
  try {
    const output = await execution.result;
    line = { id: run.id, status: "SUCCEEDED", error: null, cause: null, output };
  } catch (failure) {
    const error = failure.cause ?? failure;
    line = { id: run.id, status: "FAILED", error: error.name, cause: error.cause ?? error.message, output: null };
  }
  process.stdout.write(JSON.stringify(line) + "\n");
}
