"""One module per audience: cases (employers, agencies, retirees), tasks (clerks and
supervisors), rules (anyone), health."""
