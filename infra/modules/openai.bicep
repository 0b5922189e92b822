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

@description('Content filter (RAI policy) of both deployments: hate, sexual, violence, selfHarm (Low | Medium | High: the severity from which content is blocked), jailbreak and indirectAttack (prompt shields, bool), mode (Default | Asynchronous_filter).')
param contentFilter object = {
  hate: 'Medium'
  sexual: 'Medium'
  violence: 'Medium'
  selfHarm: 'Medium'
  jailbreak: true
  indirectAttack: true
  mode: 'Default'
}

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

// Severity filters apply to what callers say (Prompt) and to what the bot answers (Completion); prompt
// shields look at the prompt: jailbreak at the caller's words, indirect attacks at documents and tool
// results. A blocked prompt or answer reaches the app as a content-filter error (ContentFilteredError:
// the bot apologizes, the same input is never re-sent).
var severityFilters = [
  {
    name: 'Hate'
    level: contentFilter.hate
  }
  {
    name: 'Sexual'
    level: contentFilter.sexual
  }
  {
    name: 'Violence'
    level: contentFilter.violence
  }
  {
    name: 'Selfharm'
    level: contentFilter.selfHarm
  }
]
var promptFilters = [
  for filter in severityFilters: {
    name: filter.name
    blocking: true
    enabled: true
    severityThreshold: filter.level
    source: 'Prompt'
  }
]
var completionFilters = [
  for filter in severityFilters: {
    name: filter.name
    blocking: true
    enabled: true
    severityThreshold: filter.level
    source: 'Completion'
  }
]
var shieldFilters = [
  {
    name: 'Jailbreak'
    blocking: contentFilter.jailbreak
    enabled: contentFilter.jailbreak
    source: 'Prompt'
  }
  {
    name: 'Indirect Attack'
    blocking: contentFilter.indirectAttack
    enabled: contentFilter.indirectAttack
    source: 'Prompt'
  }
  {
    name: 'Protected Material Text'
    blocking: true
    enabled: true
    source: 'Completion'
  }
  {
    name: 'Protected Material Code'
    blocking: false
    enabled: true
    source: 'Completion'
  }
]

resource raiPolicy 'Microsoft.CognitiveServices/accounts/raiPolicies@2024-10-01' = {
  parent: account
  name: 'callcenter-content-filter'
  properties: {
    basePolicyName: 'Microsoft.DefaultV2'
    mode: contentFilter.mode
    contentFilters: concat(promptFilters, completionFilters, shieldFilters)
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
    raiPolicyName: raiPolicy.name
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
    raiPolicyName: raiPolicy.name
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
output contentFilterPolicyName string = raiPolicy.name
