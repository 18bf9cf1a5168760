"""Textual widgets of lamptop's console. Widgets draw values they are given; they do no I/O."""
