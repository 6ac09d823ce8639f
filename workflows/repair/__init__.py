"""The repair lifecycle workflow (维修工单): messages, activities and the workflow."""
