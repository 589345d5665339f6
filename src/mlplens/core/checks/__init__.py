"""What the sanity checks of a picture method measure: re-initialised copies of a net
(`randomization`), how alike two pictures are (`similarity`), deletion and insertion curves
(`deletion`), and each check's numbers for one method (`measures`)."""
