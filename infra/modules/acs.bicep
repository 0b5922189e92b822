// Azure Communication Services. A global resource; dataLocation decides where data rests.
// Phone numbers cannot be bought from Bicep: see docs/deploy.md.

param tags object
param name string
param dataLocation string

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: name
  location: 'global'
  tags: tags
  // ACS writes call recordings into our storage (bring-your-own-storage) and calls Azure AI Services
  // (speech, see aiservices.bicep) as this identity.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dataLocation: dataLocation
  }
}

output name string = acs.name
output id string = acs.id
output endpoint string = 'https://${acs.properties.hostName}'
// ACS signs its Call Automation callbacks with this GUID as JWT audience.
output immutableResourceId string = acs.properties.immutableResourceId
output principalId string = acs.identity.principalId
