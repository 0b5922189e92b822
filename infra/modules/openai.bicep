// Azure OpenAI account with the primary chat deployment and an optional fallback deployment.
// The app reaches it with Entra ID (managed identity + "Cognitive Services OpenAI User"), so
// LLM__*__API_KEY stays empty and key auth can be switched off.

param location string
param tags object
param name string
param disableLocalAuth bool

param primaryDeploymentName string
param primaryModelName string
param primaryModelVersion string
param primarySkuName string
param primaryCapacity int

@description('Empty: no fallback deployment.')
param fallbackDeploymentName string
param fallbackModelName string
param fallbackModelVersion string
param fallbackSkuName string
param fallbackCapacity int

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: name
    publicNetworkAccess: 'Enabled'
    disableLocalAuth: disableLocalAuth
  }
}

resource primary 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: primaryDeploymentName
  sku: {
    name: primarySkuName
    capacity: primaryCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: primaryModelName
      version: primaryModelVersion
    }
  }
}

// Deployments of one account must be created one after the other (dependsOn), or ARM answers
// "another operation is in progress".
resource fallback 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = if (!empty(fallbackDeploymentName)) {
  parent: account
  name: empty(fallbackDeploymentName) ? 'unused' : fallbackDeploymentName
  sku: {
    name: fallbackSkuName
    capacity: fallbackCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: fallbackModelName
      version: fallbackModelVersion
    }
  }
  dependsOn: [
    primary
  ]
}

output name string = account.name
output id string = account.id
output endpoint string = account.properties.endpoint
output primaryDeploymentName string = primary.name
output fallbackDeploymentName string = fallbackDeploymentName
