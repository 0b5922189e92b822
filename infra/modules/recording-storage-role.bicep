// The role ACS needs to record into our container (bring-your-own-storage): "Storage Blob Data
// Contributor" for the ACS resource's system-assigned identity, scoped to the recordings container
// only (learn.microsoft.com: Call Recording, "Bring your own Azure storage" quickstart).

param acsPrincipalId string
param storageAccountName string
param recordingsContainerName string

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource recordingsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: recordingsContainerName
}

resource acsRecordingWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(recordingsContainer.id, acsPrincipalId, storageBlobDataContributor)
  scope: recordingsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: acsPrincipalId
    principalType: 'ServicePrincipal'
  }
}
