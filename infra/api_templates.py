"""The API's Velocity mapping templates: a POST's body to Step Functions' StartExecution and its answers
back, and the answer to a body the schema rejects. POST /generations and POST /batches share them."""

# $util.escapeJavaScript keeps quotes, backslashes, newlines and non-Latin text intact inside a JSON
# string, but it also escapes single quotes (\'), which JSON does not allow; every use undoes that
# with replaceAll, whose first argument is a Java regex: one backslash, then a quote.
UNESCAPE_QUOTES = r""".replaceAll("\\'", "'")"""

# The execution name: the Idempotency-Key header, else the body's idempotency_key, else the
# request id. The input is the body as sent. %s: the state machine's ARN.
START_TEMPLATE = (
    """#set($body = $input.path('$'))
#set($key = $input.params().header.get('Idempotency-Key'))
#if("$!key" == "")#set($key = $input.params().header.get('idempotency-key'))#end
#if("$!key" == "")#set($key = "$!body.idempotency_key")#end
#if("$!key" == "")#set($key = $context.requestId)#end
{
  "stateMachineArn": "%s",
  "name": "$util.escapeJavaScript($key)"""
    + UNESCAPE_QUOTES
    + """",
  "input": "$util.escapeJavaScript($input.json('$'))"""
    + UNESCAPE_QUOTES
    + """"
}"""
)

# The id is the execution name, the ARN's last part (VTL does arithmetic only in #set).
STARTED_TEMPLATE = """#set($arn = $input.path('$.executionArn'))
#set($cut = $arn.lastIndexOf(':') + 1)
{
  "id": "$arn.substring($cut)",
  "executionArn": "$arn",
  "startDate": "$input.path('$.startDate')"
}"""

# Step Functions answers 400 ExecutionAlreadyExists for a name used with another input, or by an
# execution that has ended (same input while it runs returns that execution: idempotent). API
# Gateway's #if takes a null as true, so the error type is tested as a string, never as a null.
# %s: the path whose GET answers for the key ("/generations", "/batches").
REFUSED_TEMPLATE = (
    """#set($type = "$!input.path('$.__type')")
#if($type.contains('ExecutionAlreadyExists'))
#set($context.responseOverride.status = 409)
{"message": "idempotency key already used (the run ended, or had another body): GET %s/{key}"}
#else
{"message": "$util.escapeJavaScript($input.path('$.message'))"""
    + UNESCAPE_QUOTES
    + """"}
#end"""
)

# API Gateway's own answer to a body the schema rejects says only "Invalid request body"; this one
# names the fields and rules.
BAD_BODY_TEMPLATE = '{"message": "$util.escapeJavaScript($context.error.validationErrorString)' + UNESCAPE_QUOTES + '"}'
