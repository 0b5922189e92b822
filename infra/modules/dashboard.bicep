// What an operator watches in the portal: a workbook over the App Insights tables the product's
// telemetry lands in (core/telemetry.py names every metric and span), and three alerts: answer-latency
// p95, function failures and post-call messages given up (poison).
//
// The workbook JSON lives in infra/workbook/ (edit it in the portal's Advanced editor, paste it back).

param location string
param tags object
param appInsightsName string
param resourceToken string

@description('E-mail that receives the alerts; empty = alerts fire in the portal only (no action group).')
param alertEmail string

@description('Answer latency p95 (ms) above which the latency alert fires.')
param answerLatencyP95ThresholdMs int

@description('Failed function invocations in 15 minutes above which the failure alert fires.')
param functionFailureThreshold int

@description('Prices shown in the workbook (per million tokens, any currency), e.g. 0.40 and 1.60.')
param inputPricePer1M string
param outputPricePer1M string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var workbookJson = replace(
  replace(
    replace(loadTextContent('../workbook/callcenter.workbook.json'), '__APP_INSIGHTS_ID__', appInsights.id),
    '__INPUT_PRICE__',
    inputPricePer1M
  ),
  '__OUTPUT_PRICE__',
  outputPricePer1M
)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsights.id, 'callcenter-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Call center AI'
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: workbookJson
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-callcenter-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'callcenter'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmail) ? {} : {
  actionGroups: [
    actionGroup.id
  ]
}

// Each alert: one log query over App Insights every 5 minutes, on the last 15 minutes.
var alerts = [
  {
    name: 'answer-latency-p95'
    displayName: 'Call center: answer latency p95'
    description: 'p95 of the answer latency (RecognizeCompleted received to first play request sent) is above ${answerLatencyP95ThresholdMs} ms.'
    severity: 2
    query: 'dependencies | where name == "callflow.turn" | extend latency_ms = todouble(customDimensions["call.answer.latency_ms"]) | where isnotnull(latency_ms) | summarize p95 = percentile(latency_ms, 95)'
    measure: 'p95'
    aggregation: 'Maximum'
    threshold: answerLatencyP95ThresholdMs
  }
  {
    name: 'function-failures'
    displayName: 'Call center: function failures'
    description: 'More than ${functionFailureThreshold} function invocations failed in 15 minutes.'
    severity: 1
    query: 'requests | where success == false | summarize failures = count()'
    measure: 'failures'
    aggregation: 'Total'
    threshold: functionFailureThreshold
  }
  {
    name: 'post-call-poison'
    displayName: 'Call center: post-call poison messages'
    description: 'A post-call job was given up and its message moved to post-call-poison: the call has no insights. See docs/deploy.md.'
    severity: 2
    query: 'customMetrics | where name == "post_call.poison_messages" | summarize poisoned = sum(valueSum)'
    measure: 'poisoned'
    aggregation: 'Total'
    threshold: 0
  }
]

resource logAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in alerts: {
    name: 'alert-${alert.name}-${resourceToken}'
    location: location
    tags: tags
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      evaluationFrequency: 'PT5M'
      windowSize: 'PT15M'
      scopes: [
        appInsights.id
      ]
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: alert.aggregation
            metricMeasureColumn: alert.measure
            operator: 'GreaterThan'
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: actions
    }
  }
]

output workbookId string = workbook.id
