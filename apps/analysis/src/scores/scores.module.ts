import { Module } from '@nestjs/common';
import { ScoreParametersController, ScoresController } from './scores.controller';
import { ScoresService } from './scores.service';

@Module({
  controllers: [ScoresController, ScoreParametersController],
  providers: [ScoresService],
  exports: [ScoresService],
})
export class ScoresModule {}
