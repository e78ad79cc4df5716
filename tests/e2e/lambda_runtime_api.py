"""A minimal AWS Lambda Runtime API on 127.0.0.1: it hands events to a real
Lambda binary of ours, as the Lambda service does, and collects what the
binary answers (the result, or the errorType/errorMessage Step Functions
would see)."""

import json
import os
import queue
import subprocess
import uuid

from local_http import QuietHandler, serve

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        api = self

        class Handler(QuietHandler):
            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    self.send_error(404)
                    return
                request_id, event = api.events.get()
                self.reply(200, json.dumps(event).encode(), {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": "9999999999999",
                    "Lambda-Runtime-Invoked-Function-Arn":
                        "arn:aws:lambda:us-east-1:123456789012:function:test"})

            def do_POST(self):
                body = self.body()
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    api.answers.put((parts[1], parts[2], json.loads(body or b"null"),
                                     self.headers.get("Lambda-Runtime-Function-Error-Type")))
                    self.reply(202)
                else:
                    self.send_error(404)

        self.server = serve(Handler)

    @property
    def address(self) -> str:
        host, port = self.server.server_address
        return f"{host}:{port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def invoke(binary, events, env, timeout=60):
    """Runs `binary` as a Lambda function on the given events, in order.
    Returns, per event, ("response", payload) or ("error", {"errorType", "errorMessage"})."""
    api = RuntimeApi()
    full_env = dict(env)
    full_env.update({
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(str(binary)),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "test",
        "AWS_LAMBDA_LOG_GROUP_NAME": "test",
    })
    proc = subprocess.Popen([str(binary)], env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    results = []
    try:
        for event in events:
            request_id = str(uuid.uuid4())
            api.events.put((request_id, event))
            try:
                got_id, kind, payload, _ = api.answers.get(timeout=timeout)
            except queue.Empty:
                proc.kill()
                _, err = proc.communicate()
                raise AssertionError(f"{binary} gave no answer; stderr:\n{err}")
            assert got_id == request_id
            results.append((kind, payload))
    finally:
        proc.kill()
        proc.communicate()
        api.close()
    return results
