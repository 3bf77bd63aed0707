int frost_dummy(void);
