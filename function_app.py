"""Composition root: the Function App and its blueprints. Nothing else lives here."""

import azure.functions as func

from core.settings import get_settings
from functions.callbacks import bp as callbacks_bp
from functions.calls_create import bp as calls_create_bp
from functions.calls_read import bp as calls_read_bp
from functions.campaigns import bp as campaigns_bp
from functions.export import bp as export_bp
from functions.health import bp as health_bp
from functions.messaging import bp as messaging_bp
from functions.openapi import bp as openapi_bp
from functions.optouts import bp as optouts_bp
from functions.post_call import bp as post_call_bp
from functions.recordings import bp as recordings_bp
from functions.reports import bp as reports_bp
from functions.sms_twilio import bp as sms_twilio_bp
from functions.telephony import bp as telephony_bp
from functions.webhooks import bp as webhooks_bp

# Fail start-up with one message naming every missing or invalid setting.
get_settings()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health_bp)
app.register_functions(calls_read_bp)
app.register_functions(post_call_bp)
app.register_functions(messaging_bp)
app.register_functions(sms_twilio_bp)
app.register_functions(reports_bp)
app.register_functions(openapi_bp)
app.register_functions(calls_create_bp)
app.register_functions(telephony_bp)
app.register_functions(recordings_bp)
app.register_functions(callbacks_bp)
app.register_functions(optouts_bp)
app.register_functions(campaigns_bp)
app.register_functions(webhooks_bp)
app.register_functions(export_bp)
