"""The call flow: ACS events in, telephony actions and call-document changes out.

Usage::

    flow = get_flow()                                  # per worker (core.callflow.wiring)
    await flow.handle_callback(call_id, secret, authorization, body, received_at=...)
    await flow.handle_incoming_call(event_id, data)    # Event Grid IncomingCall
    call = await flow.create_call(body)                 # POST /call
"""
