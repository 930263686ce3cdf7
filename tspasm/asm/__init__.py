"""The assembler: TSP assembly text -> placed, encoded instructions -> program image."""
