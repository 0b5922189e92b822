// Data-plane roles of the Function App's managed identity.
// - Storage Blob Data Owner: Flex Consumption reads its deployment package with this identity.
//   The host (AzureWebJobsStorage__accountName) keeps its locks and keys there; the report reads
//   recordings back.
// - Storage Queue Data Contributor: the queue trigger (peek, delete, move to -poison) and the
//   product's post-call sender.
// - Storage Table Data Contributor: the product's event inbox (STORAGE__ACCOUNT_NAME).
// - Cosmos DB Built-in Data Contributor (a Cosmos SQL role, not an Azure RBAC role): reads and
//   writes items; the database and container are created by cosmos.bicep, not by the app.
// - Contributor on the ACS resource only: ACS Call Automation and SMS accept Entra ID tokens of a
//   principal with it; ACS has no narrower built-in data-plane role.
// - Cognitive Services OpenAI User: the app calls Azure OpenAI with Entra ID (empty API key).
// - App Configuration Data Reader: the app reads its run-time options with Entra ID.

param principalId string
param storageAccountName string
param cosmosAccountName string
param acsName string
@description('Empty: no Azure OpenAI account in this deployment.')
param openAiAccountName string
@description('Empty: no App Configuration store in this deployment.')
param appConfigurationName string = ''

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  appConfigurationDataReader: '516239f1-63e1-4d78-a4de-a74fb236a071'
  contributor: 'b24988ac-6182-4daf-a8cb-dc3a5ad5c5dd'
}
// Built-in Cosmos DB data-plane role definition (same id in every account).
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = if (!empty(openAiAccountName)) {
  name: empty(openAiAccountName) ? 'unused' : openAiAccountName
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in [
    roles.storageBlobDataOwner
    roles.storageQueueDataContributor
    roles.storageTableDataContributor
  ]: {
    name: guid(storage.id, principalId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource cosmosDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosDataContributorRoleId)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
    principalId: principalId
    scope: cosmos.id
  }
}

resource openAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(openAiAccountName)) {
  name: guid(resourceId('Microsoft.CognitiveServices/accounts', empty(openAiAccountName) ? 'unused' : openAiAccountName), principalId, roles.cognitiveServicesOpenAIUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAIUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource appConfiguration 'Microsoft.AppConfiguration/configurationStores@2024-05-01' existing = if (!empty(appConfigurationName)) {
  name: empty(appConfigurationName) ? 'unused' : appConfigurationName
}

resource appConfigurationReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(appConfigurationName)) {
  name: guid(resourceId('Microsoft.AppConfiguration/configurationStores', empty(appConfigurationName) ? 'unused' : appConfigurationName), principalId, roles.appConfigurationDataReader)
  scope: appConfiguration
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.appConfigurationDataReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: acsName
}

resource acsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(acs.id, principalId, roles.contributor)
  scope: acs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.contributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
