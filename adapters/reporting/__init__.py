"""Printable documents: the study report as a PDF (fpdf2)."""
