// Cosmos DB for NoSQL, serverless: one database, one container of call documents partitioned by
// call id, with the composite indexes the report list needs (see core/adapters/cosmos_store.py,
// INDEXING_POLICY: keep both in step).

param location string
param tags object
param accountName string
param databaseName string
param containerName string

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    // Keys off: the app uses Entra ID (data-plane role in roles.bicep); the database and container are
    // created here (control plane), the app only reads their metadata.
    disableLocalAuth: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      partitionKey: {
        paths: [
          '/call_id'
        ]
        kind: 'Hash'
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/messages/*'
          }
          {
            path: '/"_etag"/?'
          }
        ]
        compositeIndexes: [
          [
            {
              path: '/created_at'
              order: 'descending'
            }
            {
              path: '/call_id'
              order: 'descending'
            }
          ]
          [
            {
              path: '/created_at'
              order: 'ascending'
            }
            {
              path: '/call_id'
              order: 'ascending'
            }
          ]
        ]
      }
    }
  }
}

// Campaigns (core/adapters/cosmos_campaigns.py, INDEXING_POLICY): a campaign document and one document
// per number, partitioned by campaign id; queries filter on kind within a partition only.
resource campaigns 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'campaigns'
  properties: {
    resource: {
      id: 'campaigns'
      partitionKey: {
        paths: [
          '/campaign_id'
        ]
        kind: 'Hash'
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/campaign_id/?'
          }
          {
            path: '/kind/?'
          }
          {
            path: '/row/?'
          }
        ]
        excludedPaths: [
          {
            path: '/*'
          }
        ]
      }
    }
  }
}

output name string = account.name
output id string = account.id
output endpoint string = account.properties.documentEndpoint
