// One storage account for the Functions host (AzureWebJobsStorage), the product's queue and event
// inbox table (STORAGE__ACCOUNT_NAME, identity-based), the recordings and the Flex Consumption
// deployment package container. Nobody needs a key: shared-key access is off by default.

param location string
param tags object
param storageAccountName string
param postCallQueueName string
param inboxTableName string
param deploymentContainerName string
@description('Blob container ACS writes call recordings into (bring-your-own-storage).')
param recordingsContainerName string

@description('Shared-key (account key / SAS) access; false unless a plan needs it (Linux Consumption deployment).')
param allowSharedKeyAccess bool = false

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Keyless: every client (host, app, ACS recording, Flex deployment) uses Entra ID. Linux
    // Consumption's deployment tooling still signs package URLs with a key, hence the parameter.
    allowSharedKeyAccess: allowSharedKeyAccess
    defaultToOAuthAuthentication: true
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Private: the report serves recordings through the app (function key), never by blob URL.
resource recordingsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: recordingsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource postCallQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: postCallQueueName
}

// The Functions host creates "<queue>-poison" on its own after maxDequeueCount failures; creating it
// up front makes it visible (and alertable) before the first failure.
resource postCallPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${postCallQueueName}-poison'
}

// Campaign pacing (core.campaigns): messages that wake a campaign up to place its next calls.
resource campaignQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: 'campaign-calls'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource inboxTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: inboxTableName
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output recordingsContainerUrl string = '${storage.properties.primaryEndpoints.blob}${recordingsContainerName}'

