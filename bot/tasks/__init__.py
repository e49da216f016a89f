"""Tasks on the plan's clock: phases that assign and push them, where each stands, their texts."""
