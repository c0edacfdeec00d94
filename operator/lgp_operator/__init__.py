"""lgp data plane: the LangGraphPlatform operator, the listener and the usage reporter."""
