"""The return visit's deadlines: remind, late, escalate (回访提醒与超时上报)."""
