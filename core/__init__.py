"""The product: domain models, conversation engine, call flow and adapters. Never imports azure.functions."""
