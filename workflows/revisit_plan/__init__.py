"""The yearly revisit plan: a Temporal Schedule per project runs `RevisitPlanWorkflow`."""
