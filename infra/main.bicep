// Call Center AI on Azure Functions: the whole Azure deployment, at resource-group scope.
//
//   azd up                                   (azure.yaml at the repository root)
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json ...
//
// See docs/deploy.md for the order of steps (phone number, Event Grid subscriptions).

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(40)
@description('Name of the environment (azd: AZURE_ENV_NAME); used to derive resource names.')
param environmentName string

@description('Region of every regional resource. Flex Consumption is not offered in every region.')
param location string = resourceGroup().location

// --- Hosting ---------------------------------------------------------------------------------------

@allowed([
  'FlexConsumption'
  'Consumption'
])
@description('Function App hosting plan: Flex Consumption (FC1, recommended) or Linux Consumption (Y1).')
param hostingPlan string = 'FlexConsumption'

@description('Flex Consumption only: maximum number of instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption only: memory per instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// --- Communication Services ------------------------------------------------------------------------

@description('Where ACS keeps its data at rest.')
param acsDataLocation string = 'United States'

@description('Region of the Azure AI Services account ACS uses for speech. Empty = location.')
param aiServicesLocation string = ''

@description('E.164 phone number bought in the ACS resource (cannot be bought from Bicep). Empty until bought: the app then refuses to start and names the missing ACS__PHONE_NUMBER.')
param acsPhoneNumber string = ''

@description('E.164 number of the human agent the bot transfers to (CONVERSATION__AGENT_PHONE_NUMBER). Empty = product default.')
param agentPhoneNumber string = ''

@description('Public base URL ACS calls back (ACS__CALLBACK_BASE_URL), e.g. a custom domain. Empty = https://<function app default host name>.')
param callbackBaseUrl string = ''

@description('Create the Event Grid subscriptions (IncomingCall, SMSReceived, RecordingFileStatusUpdated) to the Function App. Needs the code deployed first: see docs/deploy.md.')
param deployEventSubscriptions bool = false

@description('Name of the Event Grid-triggered function that answers incoming calls.')
param incomingCallFunctionName string = 'incoming_call'

@description('Name of the Event Grid-triggered function that handles received SMS.')
param smsReceivedFunctionName string = 'sms_received'

@description('Name of the Event Grid-triggered function that keeps recording files (RecordingFileStatusUpdated).')
param recordingFileStatusFunctionName string = 'recording_file_status'

@description('Record calls (ACS call recording into the recordings container of this deployment).')
param recordCalls bool = false

// --- LLM -------------------------------------------------------------------------------------------

@description('Create an Azure OpenAI account with a chat deployment and use it as the primary LLM (Entra ID auth). False: set llmPrimary* to another endpoint (OpenAI, ...).')
param deployAzureOpenAI bool = true

@description('Region of the Azure OpenAI account (model availability differs by region). Empty = location.')
param openAiLocation string = ''

@description('Deployment (and model) name of the primary chat model.')
param openAiDeploymentName string = 'gpt-4.1-mini'
param openAiModelName string = 'gpt-4.1-mini'
param openAiModelVersion string = '2025-04-14'
@allowed([
  'GlobalStandard'
  'DataZoneStandard'
  'Standard'
])
param openAiDeploymentSku string = 'GlobalStandard'
@description('Capacity in thousands of tokens per minute.')
param openAiDeploymentCapacity int = 50

@description('Optional fallback deployment in the same account (e.g. gpt-4.1-nano). Empty = none (unless llmFallbackEndpoint is set).')
param openAiFallbackDeploymentName string = ''
param openAiFallbackModelName string = 'gpt-4.1-nano'
param openAiFallbackModelVersion string = '2025-04-14'
param openAiFallbackDeploymentCapacity int = 50

@description('Disable key authentication on the Azure OpenAI account (the app uses Entra ID).')
param openAiDisableLocalAuth bool = true

@allowed([
  'openai'
  'azure_openai'
])
@description('Used when deployAzureOpenAI is false: provider of the primary LLM.')
param llmPrimaryProvider string = 'openai'
@description('Used when deployAzureOpenAI is false: OpenAI-compatible base URL (https://api.openai.com/v1) or Azure OpenAI endpoint.')
param llmPrimaryEndpoint string = ''
@description('Used when deployAzureOpenAI is false: model (OpenAI) or deployment name (Azure OpenAI).')
param llmPrimaryModel string = ''
@secure()
@description('Used when deployAzureOpenAI is false: API key. Empty with azure_openai = Entra ID.')
param llmPrimaryApiKey string = ''

@allowed([
  'openai'
  'azure_openai'
])
@description('Fallback LLM outside this deployment (wins over openAiFallbackDeploymentName).')
param llmFallbackProvider string = 'openai'
param llmFallbackEndpoint string = ''
param llmFallbackModel string = ''
@secure()
param llmFallbackApiKey string = ''

// --- Run-time options ----------------------------------------------------------------------------

@description('Create an App Configuration store for the run-time options (answer timeouts, callback window, recording, ...), readable by the Function App identity. False: the options come from the app settings.')
param deployAppConfiguration bool = true

@allowed([
  'free'
  'developer'
  'standard'
])
param appConfigurationSku string = 'standard'

// --- Misc ------------------------------------------------------------------------------------------

@description('Extra app settings (name -> value), e.g. {"CONVERSATION__BOT_NAME": "Amélie"}.')
param additionalAppSettings object = {}

// --- Document search (RAG) -------------------------------------------------------------------------

@description('Deploy Azure AI Search (semantic ranker) and an embeddings deployment for document search.')
param deploySearch bool = true
@allowed(['basic', 'standard', 'standard2', 'standard3'])
param searchSku string = 'basic'
param searchIndexName string = 'documents'
@description('Who runs `python -m core.ingest` (azd sets AZURE_PRINCIPAL_ID to the deploying user); empty = nobody.')
param ingestionPrincipalId string = ''

// --- Operations (workbook and alerts) ---------------------------------------------------------

@description('E-mail that receives the alerts (answer latency p95, function failures, post-call poison); empty = portal only.')
param alertEmail string = ''
@description('Answer latency p95 (ms) above which an alert fires.')
param answerLatencyP95ThresholdMs int = 1500
@description('Failed function invocations in 15 minutes above which an alert fires.')
param functionFailureThreshold int = 5
@description('Model prices per million tokens shown in the workbook (cost per call).')
param llmInputPricePer1M string = '0.40'
param llmOutputPricePer1M string = '1.60'

// --- Content safety (Azure OpenAI content filter) ---------------------------------------------

@allowed(['Low', 'Medium', 'High'])
@description('Severity from which hate is blocked, in prompts and completions (Low blocks the most).')
param contentFilterHateLevel string = 'Medium'
@allowed(['Low', 'Medium', 'High'])
param contentFilterSexualLevel string = 'Medium'
@allowed(['Low', 'Medium', 'High'])
param contentFilterViolenceLevel string = 'Medium'
@allowed(['Low', 'Medium', 'High'])
param contentFilterSelfHarmLevel string = 'Medium'
@description('Block jailbreak attempts (prompt shields) in what callers say.')
param contentFilterJailbreak bool = true
@description('Block indirect attacks (prompt shields) in documents and tool results given to the model.')
param contentFilterIndirectAttack bool = true
@allowed(['Default', 'Asynchronous_filter'])
@description('Default: the stream is filtered before it is returned. Asynchronous_filter: tokens stream at once and are filtered after (lower answer latency, a harmful sentence may be spoken before the filter stops the answer).')
param contentFilterStreamingMode string = 'Default'

param tags object = {}

// --- Names -----------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, { 'azd-env-name': environmentName })
var cosmosDatabaseName = 'callcenter'
var cosmosContainerName = 'calls'
var postCallQueueName = 'post-call'
var inboxTableName = 'eventinbox'
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'
var recordingsContainerName = 'recordings'
var functionAppName = 'func-callcenter-${resourceToken}'

// --- Resources -------------------------------------------------------------------------------------

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: allTags
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
  }
}

module dashboard 'modules/dashboard.bicep' = {
  name: 'dashboard'
  params: {
    location: location
    tags: allTags
    appInsightsName: monitoring.outputs.appInsightsName
    resourceToken: resourceToken
    alertEmail: alertEmail
    answerLatencyP95ThresholdMs: answerLatencyP95ThresholdMs
    functionFailureThreshold: functionFailureThreshold
    inputPricePer1M: llmInputPricePer1M
    outputPricePer1M: llmOutputPricePer1M
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: allTags
    storageAccountName: 'st${resourceToken}'
    allowSharedKeyAccess: hostingPlan == 'Consumption'
    postCallQueueName: postCallQueueName
    inboxTableName: inboxTableName
    deploymentContainerName: deploymentContainerName
    recordingsContainerName: recordingsContainerName
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    location: location
    tags: allTags
    accountName: 'cosmos-${resourceToken}'
    databaseName: cosmosDatabaseName
    containerName: cosmosContainerName
  }
}

module acs 'modules/acs.bicep' = {
  name: 'acs'
  params: {
    tags: allTags
    name: 'acs-${resourceToken}'
    dataLocation: acsDataLocation
  }
}

// Speech for ACS (text-to-speech, recognition): without it the bot answers, then is mute and deaf.
module aiServices 'modules/aiservices.bicep' = {
  name: 'aiservices'
  params: {
    location: empty(aiServicesLocation) ? location : aiServicesLocation
    tags: allTags
    name: 'ais-${resourceToken}'
    acsPrincipalId: acs.outputs.principalId
  }
}

module openAi 'modules/openai.bicep' = if (deployAzureOpenAI) {
  name: 'openai'
  params: {
    location: empty(openAiLocation) ? location : openAiLocation
    tags: allTags
    name: 'oai-${resourceToken}'
    disableLocalAuth: openAiDisableLocalAuth
    primaryDeploymentName: openAiDeploymentName
    primaryModelName: openAiModelName
    primaryModelVersion: openAiModelVersion
    primarySkuName: openAiDeploymentSku
    primaryCapacity: openAiDeploymentCapacity
    fallbackDeploymentName: openAiFallbackDeploymentName
    fallbackModelName: openAiFallbackModelName
    fallbackModelVersion: openAiFallbackModelVersion
    fallbackSkuName: openAiDeploymentSku
    fallbackCapacity: openAiFallbackDeploymentCapacity
    contentFilter: {
      hate: contentFilterHateLevel
      sexual: contentFilterSexualLevel
      violence: contentFilterViolenceLevel
      selfHarm: contentFilterSelfHarmLevel
      jailbreak: contentFilterJailbreak
      indirectAttack: contentFilterIndirectAttack
      mode: contentFilterStreamingMode
    }
  }
}

var openAiEndpoint = deployAzureOpenAI ? openAi.outputs.endpoint : ''
// The Function App reads the index with its identity; queries are vectorized by the index's vectorizer,
// the embeddings settings serve ingestion and an index without one (Entra ID, no keys).
var searchAppSettings = deploySearch ? {
  SEARCH__ENDPOINT: 'https://srch-${resourceToken}.search.windows.net'
  SEARCH__INDEX: searchIndexName
  SEARCH__SEMANTIC_RANKER: 'true'
  SEARCH__EMBEDDINGS__PROVIDER: 'azure_openai'
  SEARCH__EMBEDDINGS__ENDPOINT: openAiEndpoint
  SEARCH__EMBEDDINGS__MODEL: 'text-embedding-3-small'
  SEARCH__EMBEDDINGS__DIMENSIONS: '1536'
} : {}
var useAzureFallback = deployAzureOpenAI && !empty(openAiFallbackDeploymentName) && empty(llmFallbackEndpoint)

module appConfiguration 'modules/appconfig.bicep' = if (deployAppConfiguration) {
  name: 'appconfig'
  params: {
    location: location
    tags: allTags
    name: 'appcs-${resourceToken}'
    skuName: appConfigurationSku
    recordingEnabled: recordCalls
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    tags: allTags
    hostingPlan: hostingPlan
    planName: 'plan-${resourceToken}'
    functionAppName: functionAppName
    pythonVersion: '3.11'
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    cosmosAccountName: cosmos.outputs.name
    cosmosDatabaseName: cosmosDatabaseName
    cosmosContainerName: cosmosContainerName
    acsName: acs.outputs.name
    acsPhoneNumber: acsPhoneNumber
    callbackBaseUrl: callbackBaseUrl
    agentPhoneNumber: agentPhoneNumber
    cognitiveServicesEndpoint: aiServices.outputs.endpoint
    llmPrimaryProvider: deployAzureOpenAI ? 'azure_openai' : llmPrimaryProvider
    llmPrimaryEndpoint: deployAzureOpenAI ? openAiEndpoint : llmPrimaryEndpoint
    llmPrimaryModel: deployAzureOpenAI ? openAiDeploymentName : llmPrimaryModel
    // Azure OpenAI from this deployment: Entra ID (managed identity), no key.
    llmPrimaryApiKey: deployAzureOpenAI ? '' : llmPrimaryApiKey
    llmFallbackProvider: useAzureFallback ? 'azure_openai' : llmFallbackProvider
    llmFallbackEndpoint: useAzureFallback ? openAiEndpoint : llmFallbackEndpoint
    llmFallbackModel: useAzureFallback ? openAiFallbackDeploymentName : llmFallbackModel
    llmFallbackApiKey: useAzureFallback ? '' : llmFallbackApiKey
    appConfigurationEndpoint: deployAppConfiguration ? appConfiguration.outputs.endpoint : ''
    additionalAppSettings: union(
      { RECORDINGS__CONTAINER_URL: storage.outputs.recordingsContainerUrl },
      recordCalls ? { ACS__RECORDING_ENABLED: 'true' } : {},
      searchAppSettings,
      additionalAppSettings
    )
  }
}

// ACS records into the recordings container with its own identity (bring-your-own-storage).
module recordingStorageRole 'modules/recording-storage-role.bicep' = {
  name: 'recording-storage-role'
  params: {
    acsPrincipalId: acs.outputs.principalId
    storageAccountName: storage.outputs.name
    recordingsContainerName: recordingsContainerName
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.name
    acsName: acs.outputs.name
    openAiAccountName: deployAzureOpenAI ? openAi.outputs.name : ''
    appConfigurationName: deployAppConfiguration ? appConfiguration.outputs.name : ''
  }
}

module search 'modules/search.bicep' = if (deploySearch) {
  name: 'search'
  params: {
    location: location
    tags: allTags
    name: 'srch-${resourceToken}'
    sku: searchSku
    functionAppPrincipalId: functionApp.outputs.principalId
    ingestionPrincipalId: ingestionPrincipalId
    openAiAccountName: deployAzureOpenAI ? openAi.outputs.name : ''
  }
  // Deployments of one OpenAI account are created one after the other.
  dependsOn: [
    openAi
  ]
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  params: {
    tags: allTags
    systemTopicName: 'evgt-acs-${resourceToken}'
    acsId: acs.outputs.id
    functionAppId: functionApp.outputs.id
    deployEventSubscriptions: deployEventSubscriptions
    incomingCallFunctionName: incomingCallFunctionName
    smsReceivedFunctionName: smsReceivedFunctionName
    recordingFileStatusFunctionName: recordingFileStatusFunctionName
    botPhoneNumbers: empty(acsPhoneNumber) ? [] : [acsPhoneNumber]
  }
}

// --- Outputs (azd stores them in the environment; none is a secret) --------------------------------

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output CALLBACK_BASE_URL string = functionApp.outputs.callbackBaseUrl
output ACS_RESOURCE_NAME string = acs.outputs.name
output ACS_ENDPOINT string = acs.outputs.endpoint
output ACS_IMMUTABLE_RESOURCE_ID string = acs.outputs.immutableResourceId
output COSMOS_ACCOUNT_NAME string = cosmos.outputs.name
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output OPENAI_ENDPOINT string = openAiEndpoint
output AI_SERVICES_ENDPOINT string = aiServices.outputs.endpoint
output EVENT_GRID_SYSTEM_TOPIC string = eventGrid.outputs.systemTopicName
output SEARCH_ENDPOINT string = deploySearch ? search.outputs.endpoint : ''
output SEARCH_INDEX string = searchIndexName
output WORKBOOK_ID string = dashboard.outputs.workbookId
output APP_CONFIGURATION_ENDPOINT string = deployAppConfiguration ? appConfiguration.outputs.endpoint : ''
