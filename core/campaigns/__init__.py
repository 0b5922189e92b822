"""Outbound campaigns: many calls with one task, paced through a queue under a concurrency cap, within
calling hours.

Usage (core.campaigns.service.CampaignService, built by core.bootstrap)::

    campaigns = get_services().campaigns
    campaign = await campaigns.create(body, content_type, params)   # POST /campaign
    view = await campaigns.view(campaign_id)                        # GET /campaign/{id}
    view = await campaigns.cancel(campaign_id)                      # POST /campaign/{id}/cancel
    await campaigns.wake(campaign_id)                               # the queue trigger

How pacing stays under the cap with any number of instances and messages: every message of the queue
only says "look at campaign X". Looking at it (``wake``) frees the slots of calls that have ended,
then gives the free slots to the next rows within their calling hours in one conditional write of the
campaign document (ETag): two instances that look at once conflict, and the loser re-applies on the
fresh document, so the slots handed out never exceed the cap. A call's end sends such a message
(core.callflow.lifecycle); rows outside their hours are deferred, and a message made invisible until their
window opens wakes the campaign then.
"""
