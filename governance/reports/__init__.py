"""Signed PDF compliance reports: render (WeasyPrint), sign (pyHanko, PAdES), verify."""
