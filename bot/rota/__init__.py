"""The case-presentation rota: fair presenters, manual assignments, swaps, absences."""
