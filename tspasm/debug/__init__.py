"""The interactive TSP-1 debugger: Session (command logic, no terminal), Repl (prompt_toolkit)."""
