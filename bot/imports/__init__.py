"""Imports of the office's spreadsheets (roster, plan, programmes, classes, sessions, past
completions): files read into rows, rows checked and compared with what is saved, and saved
only when no row has an error."""
