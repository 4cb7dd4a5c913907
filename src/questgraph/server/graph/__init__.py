"""The thin Graph HTTP layer: parameters (D2–D4), fields (D5), errors (D6–D7), routing (D1), paging (D21)."""
