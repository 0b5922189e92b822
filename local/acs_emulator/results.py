"""Result information of call events, with where each one comes from.

"recorded": seen in a callback the live service sent (tests/fixtures/acs/, see SOURCES.md there);
"documented": in the ACS docs; "guess": neither, our best reading (said so in the README too).
"""

from __future__ import annotations

from typing import Any

# recorded (2024-09-01-preview and later; the 2024-04-15 recordings have no resultInformation)
CONNECTED_RESULT: dict[str, Any] = {"code": 200, "subCode": 0, "message": ""}
PARTICIPANTS_RESULT: dict[str, Any] = {"code": 200, "subCode": 0, "message": ""}
# recorded: the call ended by a participant, and by this app through the API (hang up)
ENDED_RESULT: dict[str, Any] = {
    "code": 200,
    "subCode": 7000,
    "message": "The conversation has ended. DiagCode: 0#7000.@",
}
ENDED_BY_APP: dict[str, Any] = {
    "code": 200,
    "subCode": 7000,
    "message": "Call was ended by Azure Communication Service Call Automation API or a server bot. "
    "DiagCode: 0#7000.@",
}
# guess: 408 is the documented "Timed out" code; no recording of an unanswered outbound call
NOT_ANSWERED: dict[str, Any] = {"code": 408, "subCode": 0, "message": "Call was not answered."}
# guess: codes of the documented families (7015 is not in the subcode table)
TRANSFER_OK: dict[str, Any] = {
    "code": 200,
    "subCode": 7015,
    "message": "The transfer operation completed successfully.",
}
TRANSFER_DECLINED: dict[str, Any] = {
    "code": 603,
    "subCode": 560603,
    "message": "Call declined by the transfer target.",
}

# documented: "Most common Call Automation error codes" (405, 8522, "Missing configuration ... needs to
# happen when invoking the AnswerCall API"); the message is the one the REST API returned in
# Azure/azure-sdk-for-js#27966. Returned synchronously by play and recognize (not as an event).
NO_COGNITIVE_SERVICES = (
    405,
    "8522",
    "Request not allowed when Cognitive Service Configuration not set during call setup.",
)
# recorded: a PlayFailed quoted in Azure-Samples/communication-services-dotnet-quickstarts#201, when
# the ACS identity may not use the AI Services account (no "Cognitive Services User" role).
COGNITIVE_SERVICES_UNAUTHORIZED: dict[str, Any] = {
    "code": 401,
    "subCode": 8565,
    "message": "Action failed due to a Cognitive Services authentication error. "
    "Please check your authorization input and ensure it is correct.",
}


# Results of media operations (play, recognize), as ACS documents them.
OK = {"code": 200, "subCode": 0, "message": "Action completed successfully."}
CANCELED = {"code": 400, "subCode": 8508, "message": "Action failed, the operation was canceled."}
INITIAL_SILENCE = {"code": 400, "subCode": 8510, "message": "Action failed, initial silence timeout reached."}
INTER_DIGIT = {"code": 400, "subCode": 8532, "message": "Action failed, inter-digit silence timeout reached."}
PROMPT_FAILED = {
    "code": 500,
    "subCode": 8511,
    "message": "Action failed, encountered failure while trying to play the prompt.",
}
MAX_DIGITS = {"code": 200, "subCode": 8531, "message": "Action completed, max digits received."}
STOP_TONE = {"code": 200, "subCode": 8514, "message": "Action completed as stop tone was detected."}
SPEECH_MATCHED = {"code": 200, "subCode": 8545, "message": "Action completed, speech option matched."}
DTMF_MATCHED = {"code": 200, "subCode": 8533, "message": "Action completed, DTMF option matched."}
SPEECH_NOT_MATCHED = {"code": 400, "subCode": 8547, "message": "Action failed, speech option not matched."}
INCORRECT_TONE = {"code": 400, "subCode": 8534, "message": "Action failed, incorrect tone detected."}
DOWNLOAD_FAILED = {"code": 400, "subCode": 8536, "message": "Action failed, file could not be downloaded."}
SOURCE_EMPTY = {"code": 400, "subCode": 8582, "message": "Action failed, text or SSML play source is empty."}
# documented: the event codes of the play action (MicrosoftDocs/azure-docs,
# articles/communication-services/how-tos/call-automation/play-action.md, "Event codes").
FILE_FORMAT_INVALID = {"code": 400, "subCode": 8535, "message": "Action failed, file format is invalid."}
AI_BAD_REQUEST = {
    "code": 400,
    "subCode": 8565,
    "message": "Action failed, bad request to Azure AI services. Check input parameters.",
}
