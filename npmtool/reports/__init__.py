"""Reports in each country's own formats (issue 6).

context.py gathers the redacted facts, sections.py turns them into the
sections a plugin's format lists, document.py holds the result (hashed as the
report's inputs), and html.py / docx.py / pdf.py render it. The service
npmtool.services.reports ties them together and stores GeneratedReport rows."""
