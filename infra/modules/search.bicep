// Document search (RAG): an Azure AI Search service with the semantic ranker, an embeddings deployment
// on the Azure OpenAI account, and the data-plane roles, all with Entra ID (no keys):
// - the Function App's identity: "Search Index Data Reader" (queries only);
// - the search service's own identity: "Cognitive Services OpenAI User" on the OpenAI account, so the
//   index's vectorizer embeds queries without a key;
// - whoever runs the ingestion command (`python -m core.ingest <folder>`, e.g. the deploying user):
//   "Search Service Contributor" (creates the index), "Search Index Data Contributor" (writes
//   documents) and "Cognitive Services OpenAI User" (embeds the chunks).
// The index itself is created by the ingestion command, not here.

param location string
param tags object
param name string
@allowed(['basic', 'standard', 'standard2', 'standard3'])
@description('The semantic ranker needs Basic or higher.')
param sku string = 'basic'
@allowed(['free', 'standard'])
param semanticSearch string = 'standard'
param functionAppPrincipalId string
@description('Principal that runs the ingestion command; empty = none assigned here.')
param ingestionPrincipalId string = ''
@allowed(['User', 'ServicePrincipal', 'Group'])
param ingestionPrincipalType string = 'User'
@description('Empty: no Azure OpenAI account (set SEARCH__EMBEDDINGS__* by hand).')
param openAiAccountName string
param embeddingsDeploymentName string = 'text-embedding-3-small'
param embeddingsModelName string = 'text-embedding-3-small'
param embeddingsModelVersion string = '1'
param embeddingsSkuName string = 'GlobalStandard'
param embeddingsCapacity int = 50

var roles = {
  searchIndexDataReader: '1407120a-92aa-4202-b7e9-c0e197c0c53f'
  searchIndexDataContributor: '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
  searchServiceContributor: '7ca78c08-252a-4471-8644-bb5ff32d4ba0'
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
}
var hasOpenAi = !empty(openAiAccountName)

resource search 'Microsoft.Search/searchServices@2023-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    replicaCount: 1
    partitionCount: 1
    hostingMode: 'default'
    publicNetworkAccess: 'enabled'
    semanticSearch: semanticSearch
    // Entra ID only: API keys are refused.
    disableLocalAuth: true
  }
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = if (hasOpenAi) {
  name: hasOpenAi ? openAiAccountName : 'unused'
}

resource embeddings 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = if (hasOpenAi) {
  parent: openAi
  name: embeddingsDeploymentName
  sku: {
    name: embeddingsSkuName
    capacity: embeddingsCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: embeddingsModelName
      version: embeddingsModelVersion
    }
  }
}

resource appReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, functionAppPrincipalId, roles.searchIndexDataReader)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.searchIndexDataReader)
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource vectorizerOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasOpenAi) {
  name: guid(openAi.id, search.id, roles.cognitiveServicesOpenAIUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAIUser)
    principalId: search.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource ingestionSearchRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in (empty(ingestionPrincipalId) ? [] : [roles.searchServiceContributor, roles.searchIndexDataContributor]): {
    name: guid(search.id, ingestionPrincipalId, roleId)
    scope: search
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: ingestionPrincipalId
      principalType: ingestionPrincipalType
    }
  }
]

resource ingestionOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasOpenAi && !empty(ingestionPrincipalId)) {
  name: guid(openAi.id, ingestionPrincipalId, roles.cognitiveServicesOpenAIUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAIUser)
    principalId: ingestionPrincipalId
    principalType: ingestionPrincipalType
  }
}

output name string = search.name
output endpoint string = 'https://${search.name}.search.windows.net'
output embeddingsDeploymentName string = hasOpenAi ? embeddings.name : ''
