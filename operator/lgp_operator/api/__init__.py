"""The LangGraphPlatform CRD, generated from the custom resource's models in ``lgp_contract.resource``."""
