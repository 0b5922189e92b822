// Azure App Configuration: the store of the run-time options (core/runtime.py), read by the Function
// App with its managed identity (App Configuration Data Reader, in roles.bicep) and refreshed every
// APP_CONFIGURATION__REFRESH_INTERVAL_S when the sentinel key changes: change the options in the
// portal, then the sentinel. Each key is `<prefix><option>` with the null label.

param location string
param tags object
param name string

@allowed([
  'free'
  'developer'
  'standard'
])
@description('free: one store per subscription, 10 MB, no SLA; standard for production.')
param skuName string = 'standard'

@description('Prefix of every key (APP_CONFIGURATION__KEY_PREFIX).')
param keyPrefix string = 'callcenter:'

@description('Initial values of the run-time options (option name -> text). Absent options fall back to the app settings; these are the product defaults.')
param options object = {
  answer_soft_timeout_s: '2'
  answer_hard_timeout_s: '60'
  callback_window_hours: '24'
  phone_silence_timeout_s: '6'
  recognition_retries: '2'
  recognition_completion_timeout_s: '0.5'
  slow_llm_for_chat: 'false'
}

@description('Initial recording_enabled: the deployment\'s recordCalls, so the store agrees with ACS__RECORDING_ENABLED.')
param recordingEnabled bool = false

var initialOptions = union(options, { recording_enabled: recordingEnabled ? 'true' : 'false' })

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    // The app reads with its managed identity; access keys stay enabled only because ARM writes the
    // key-values below with them (pass-through would need a data-plane role for whoever deploys).
    disableLocalAuth: false
    publicNetworkAccess: 'Enabled'
  }
}

// Key-value resource names are `<key>` for the null label; characters outside [A-Za-z0-9_.:-] would
// need escaping (`~2F` for `/`), none of ours has one.
resource values 'Microsoft.AppConfiguration/configurationStores/keyValues@2024-05-01' = [
  for option in items(initialOptions): {
    parent: store
    name: '${keyPrefix}${option.key}'
    properties: {
      value: string(option.value)
      contentType: 'text/plain'
    }
  }
]

// Bumped by whoever changes the options; every worker reloads them within the refresh interval.
resource sentinel 'Microsoft.AppConfiguration/configurationStores/keyValues@2024-05-01' = {
  parent: store
  name: '${keyPrefix}sentinel'
  properties: {
    value: '1'
    contentType: 'text/plain'
  }
  dependsOn: [
    values
  ]
}

output name string = store.name
output endpoint string = store.properties.endpoint
output keyPrefix string = keyPrefix
