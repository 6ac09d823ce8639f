"""Delegation to the liable party (转开发商/厂家维修): a child workflow of the repair."""
