// The Function App (Python 3.11, Linux) on Flex Consumption (FC1, default) or Consumption (Y1),
// with a system-assigned identity, and every app setting core/settings.py reads.
//
// App settings are written in two steps: the site is created with the host's own settings, then a
// `config/appsettings` resource writes the full set. That second step can read the site's real
// default host name for ACS__CALLBACK_BASE_URL. The config resource REPLACES all app settings: any
// setting added by hand in the portal is removed by the next provisioning; add it to
// `additionalAppSettings` instead.

param location string
param tags object

@allowed([
  'FlexConsumption'
  'Consumption'
])
param hostingPlan string
param planName string
param functionAppName string
param pythonVersion string
param maximumInstanceCount int
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

param storageAccountName string
param storageBlobEndpoint string
param deploymentContainerName string
param appInsightsName string

param cosmosAccountName string
param cosmosDatabaseName string
param cosmosContainerName string

param acsName string
@description('E.164 number bought in ACS; empty until bought (the app refuses to start without it).')
param acsPhoneNumber string
@description('Public base URL ACS calls back; empty = https://<default host name of the app>.')
param callbackBaseUrl string

@description('E.164 number of the human agent calls are transferred to; empty = product default.')
param agentPhoneNumber string
@description('Endpoint of the Azure AI Services account ACS uses for speech (ACS__COGNITIVE_SERVICES_ENDPOINT).')
param cognitiveServicesEndpoint string

param llmPrimaryProvider string
param llmPrimaryEndpoint string
param llmPrimaryModel string
@secure()
param llmPrimaryApiKey string
param llmFallbackProvider string
@description('Empty: no fallback model.')
param llmFallbackEndpoint string
param llmFallbackModel string
@secure()
param llmFallbackApiKey string

@description('App Configuration endpoint of the run-time options; empty = the app settings only.')
param appConfigurationEndpoint string = ''
param appConfigurationKeyPrefix string = 'callcenter:'

@description('More app settings (name -> value), e.g. CONVERSATION__BOT_NAME. They win over the computed ones.')
param additionalAppSettings object

var isFlex = hostingPlan == 'FlexConsumption'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: acsName
}

// No key anywhere: the host, the queue trigger and the product reach storage, Cosmos DB, ACS, Azure
// OpenAI, AI Search and App Configuration with the site's system-assigned identity (roles.bicep grants
// the least role each needs). Identity-based host storage: AzureWebJobsStorage__accountName covers
// blob, queue and table (the queue trigger's connection "AzureWebJobsStorage" reads the same prefix).
var hostStorageSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
}

var flexSku = {
  name: 'FC1'
  tier: 'FlexConsumption'
}
var consumptionSku = {
  name: 'Y1'
  tier: 'Dynamic'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: isFlex ? flexSku : consumptionSku
  properties: {
    // Linux.
    reserved: true
  }
}

// Flex Consumption: runtime, scale and the deployment package location live in functionAppConfig;
// FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_CONTENT* and linuxFxVersion are
// not allowed there. Consumption (Y1): the classic settings and linuxFxVersion.
var flexProperties = {
  functionAppConfig: {
    deployment: {
      storage: {
        type: 'blobContainer'
        value: '${storageBlobEndpoint}${deploymentContainerName}'
        authentication: {
          type: 'SystemAssignedIdentity'
        }
      }
    }
    scaleAndConcurrency: {
      maximumInstanceCount: maximumInstanceCount
      instanceMemoryMB: instanceMemoryMB
    }
    runtime: {
      name: 'python'
      version: pythonVersion
    }
  }
}

// Settings of the Functions host itself, per plan.
// The App Insights connection string holds an instrumentation key: an identifier of the component
// that telemetry goes to, not a secret that grants access to anything.
var flexHostSettings = union(hostStorageSettings, {
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
})
// Linux Consumption without an Azure Files content share (which only takes a key): the app runs from
// its deployment package (remote build), so WEBSITE_CONTENT* are not set.
var consumptionHostSettings = union(hostStorageSettings, {
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  // Remote build (pip install on the server) for zip deployments from azd / func.
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
  ENABLE_ORYX_BUILD: 'true'
})
var hostSettings = isFlex ? flexHostSettings : consumptionHostSettings

// The same host settings as a list, for the site's creation.
var flexHostSettingsList = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storage.name
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
]
var consumptionHostSettingsList = concat(flexHostSettingsList, [
  {
    name: 'FUNCTIONS_EXTENSION_VERSION'
    value: '~4'
  }
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'python'
  }
])

var flexSiteConfig = {
  minTlsVersion: '1.2'
  ftpsState: 'Disabled'
  http20Enabled: true
  appSettings: flexHostSettingsList
}
var consumptionSiteConfig = {
  minTlsVersion: '1.2'
  ftpsState: 'Disabled'
  http20Enabled: true
  linuxFxVersion: 'Python|${pythonVersion}'
  appSettings: consumptionHostSettingsList
}

var siteProperties = {
  serverFarmId: plan.id
  reserved: true
  httpsOnly: true
  siteConfig: isFlex ? flexSiteConfig : consumptionSiteConfig
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  // azd finds the deployment target of service "api" (azure.yaml) by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: union(siteProperties, isFlex ? flexProperties : {})
}

var callbackBase = empty(callbackBaseUrl) ? 'https://${site.properties.defaultHostName}' : callbackBaseUrl

// Names and meanings: core/settings.py (nested sections joined with "__").
var productSettings = {
  APP_MODE: 'azure'

  // COSMOS__KEY, ACS__ACCESS_KEY and STORAGE__CONNECTION_STRING are left unset: the identity.
  COSMOS__ENDPOINT: cosmos.properties.documentEndpoint
  COSMOS__DATABASE: cosmosDatabaseName
  COSMOS__CONTAINER: cosmosContainerName
  COSMOS__ENDPOINT_DISCOVERY: 'true'

  STORAGE__ACCOUNT_NAME: storage.name
  STORAGE__ENDPOINT_SUFFIX: environment().suffixes.storage

  ACS__ENDPOINT: 'https://${acs.properties.hostName}'
  ACS__CALLBACK_BASE_URL: callbackBase
  ACS__JWKS_URL: 'https://acscallautomation.communication.azure.com/calling/keys'
  ACS__JWT_ISSUER: 'https://acscallautomation.communication.azure.com'
  ACS__JWT_AUDIENCE: acs.properties.immutableResourceId
  ACS__COGNITIVE_SERVICES_ENDPOINT: cognitiveServicesEndpoint

  LLM__PRIMARY__PROVIDER: llmPrimaryProvider
  LLM__PRIMARY__ENDPOINT: llmPrimaryEndpoint
  LLM__PRIMARY__MODEL: llmPrimaryModel
}

// Optional settings are left out when empty: the settings loader ignores empty values anyway, and an
// absent setting is clearer in the portal than an empty one.
var phoneSettings = empty(acsPhoneNumber) ? {} : { ACS__PHONE_NUMBER: acsPhoneNumber }
var agentSettings = empty(agentPhoneNumber) ? {} : { CONVERSATION__AGENT_PHONE_NUMBER: agentPhoneNumber }
var primaryKeySettings = empty(llmPrimaryApiKey) ? {} : { LLM__PRIMARY__API_KEY: llmPrimaryApiKey }
var fallbackConfigured = {
  LLM__FALLBACK__PROVIDER: llmFallbackProvider
  LLM__FALLBACK__ENDPOINT: llmFallbackEndpoint
  LLM__FALLBACK__MODEL: llmFallbackModel
}
var fallbackSettings = empty(llmFallbackEndpoint) ? {} : fallbackConfigured
var fallbackKeySettings = empty(llmFallbackEndpoint) || empty(llmFallbackApiKey) ? {} : { LLM__FALLBACK__API_KEY: llmFallbackApiKey }
var appConfigurationSettings = empty(appConfigurationEndpoint) ? {} : {
  APP_CONFIGURATION__ENDPOINT: appConfigurationEndpoint
  APP_CONFIGURATION__KEY_PREFIX: appConfigurationKeyPrefix
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(hostSettings, productSettings, phoneSettings, agentSettings, primaryKeySettings, fallbackSettings, fallbackKeySettings, appConfigurationSettings, additionalAppSettings)
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
output callbackBaseUrl string = callbackBase
output principalId string = site.identity.principalId
