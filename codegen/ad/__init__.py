"""Stage 4, differentiate: the rule table (one row per operation: its derivative and
facts), reverse mode over the staged form, forward mode for JVPs and HVPs."""
