// Azure AI Services (multi-service Cognitive Services) account that ACS Call Automation uses for
// text-to-speech (play of text/SSML) and speech recognition (recognize speech/choices). Without one on
// a call (callIntelligenceOptions.cognitiveServicesEndpoint on answer/create), ACS refuses those actions.
//
// ACS reaches it with its own system-assigned managed identity, which needs "Cognitive Services User"
// on this account; managed identity needs a custom subdomain (the regional endpoint is refused).
// See https://learn.microsoft.com/azure/communication-services/concepts/call-automation/azure-communication-services-azure-cognitive-services-integration

param location string
param tags object
param name string
@description('Principal id of the ACS resource\'s system-assigned identity.')
param acsPrincipalId string

// Built-in role "Cognitive Services User" (the one the ACS integration guide names).
var cognitiveServicesUserRoleId = 'a97b65f3-24c7-4388-baec-2e87135dc908'

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'AIServices'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: name
    publicNetworkAccess: 'Enabled'
  }
}

resource acsMayUseIt 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, acsPrincipalId, cognitiveServicesUserRoleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesUserRoleId)
    principalId: acsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
// https://<name>.cognitiveservices.azure.com/ : ACS__COGNITIVE_SERVICES_ENDPOINT
output endpoint string = account.properties.endpoint
