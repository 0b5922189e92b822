// Event Grid system topic of the ACS resource, and (optionally) the subscriptions that deliver
// IncomingCall, SMSReceived and RecordingFileStatusUpdated to the Function App's Event Grid triggers.
//
// An "AzureFunction" destination points at <function app id>/functions/<function name>: that
// function must already exist in the deployed code, or ARM fails the subscription. So the
// subscriptions are off by default (deployEventSubscriptions = false): provision, deploy the code,
// then provision again with deployEventSubscriptions = true. See docs/deploy.md.

param tags object
param systemTopicName string
param acsId string
param functionAppId string
param deployEventSubscriptions bool
param incomingCallFunctionName string
param smsReceivedFunctionName string
param recordingFileStatusFunctionName string
@description('The bot\'s phone numbers (E.164): only calls to them are delivered to the bot.')
param botPhoneNumbers array

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  // ACS is a global resource: its system topic is global too.
  location: 'global'
  tags: tags
  properties: {
    source: acsId
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

resource incomingCall 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (deployEventSubscriptions) {
  parent: systemTopic
  name: 'incoming-call'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.IncomingCall'
      ]
      // Calls to other numbers of the resource are not the bot's (the app checks data.to too).
      advancedFilters: empty(botPhoneNumbers) ? [] : [
        {
          operatorType: 'StringIn'
          key: 'data.to.phoneNumber.value'
          values: botPhoneNumbers
        }
      ]
    }
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${incomingCallFunctionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    // An incoming call rings for about 30 s: a late delivery is useless, a few quick retries are not.
    retryPolicy: {
      maxDeliveryAttempts: 3
      eventTimeToLiveInMinutes: 1
    }
  }
}

resource smsReceived 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (deployEventSubscriptions) {
  parent: systemTopic
  name: 'sms-received'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.SMSReceived'
      ]
    }
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${smsReceivedFunctionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
  // Subscriptions of one topic are created one after the other.
  dependsOn: [
    incomingCall
  ]
}

// The recording file is announced minutes after the call: retries may take their time.
resource recordingFileStatus 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (deployEventSubscriptions) {
  parent: systemTopic
  name: 'recording-file-status'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.RecordingFileStatusUpdated'
      ]
    }
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${recordingFileStatusFunctionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
  dependsOn: [
    smsReceived
  ]
}

output systemTopicName string = systemTopic.name
