"""Reading a model API payload: every leaf of a request or answer body and what kind of value it is (``extract``),
inline images proven harmless (``images``), values split across adjacent texts (``joins``) and the scan of keys and
structural strings (``identifiers``). Used by the enforcement stage and by the masker; never decides or rewrites
on its own."""
